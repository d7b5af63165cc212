"""Saved siting scenarios: named plans in the local data store.

A scenario records everything needed to show, cite and compare a siting plan
later: the area, the layers with their as-of dates, the demand level and
target group, the model and its parameters, the fixed and selected sites
and the results (objective, gap, status, coverage before/after and the
per-Gemeinde table).

Scenarios live in the data store of the settings: the local GeoPackage
(``Settings.store_path``) or, with ``Settings.database_url``, PostgreSQL/PostGIS
(:mod:`geo.store.scenarios_pg`, same behaviour). Two tables:

``atlas_scenarios``
    one row per scenario: name, creation time, area, model, number of sites
    and a JSON payload with everything else;
``atlas_scenario_sites``
    one row per site with its attributes and the point as WKB in EPSG:25832.

Every write runs in **one** transaction
(:meth:`geo.store.DataStore.transaction`), so a process killed during a
save leaves either the old or the new scenario, never a mix. Loading checks
that the number of stored sites matches the scenario row. Each scenario row
has a ``version``: overwriting a scenario that was loaded (``Scenario.version``
> 0) is refused when someone else saved it in between, instead of losing
their change.

Examples
--------
>>> import tempfile, geopandas as gpd, pandas as pd
>>> from pathlib import Path
>>> from geo.settings import Settings
>>> s = Settings().with_home(Path(tempfile.mkdtemp()))
>>> sites = gpd.GeoDataFrame({"candidate_id": ["cluster:1"], "source": ["Clusterzentrum"],
...     "name": ["Clusterzentrum"], "gemeinde_ags": ["05334002"], "kreis_ags": ["05334"],
...     "fixed": [False], "order": [1], "marginal_gain": [1200.0]},
...     geometry=gpd.points_from_xy([295000.0], [5628000.0]), crs="EPSG:25832")
>>> sc = Scenario(name="Aachen 1", area_ags="05334", area_name="Städteregion Aachen",
...     model="mclp", parameters={"p": 1, "radius_km": 2.0}, sites=sites,
...     results={"objective": 1200.0, "status": "optimal"}, by_gemeinde=pd.DataFrame())
>>> save_scenario(s, sc)  # the stored version
1
>>> load_scenario(s, "Aachen 1").sites["candidate_id"].tolist()
['cluster:1']
"""

from __future__ import annotations

import io
import json
import logging
import math
import re
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import DataError, IntegrationsatlasError, Problem, raise_if_problems
from geo.projection import ensure_projected
from geo.settings import PROJECTED_CRS, Settings
from geo.store import DataStore
from geo.store.conflicts import concurrent_change, exists_error

logger = logging.getLogger(__name__)

SCENARIOS_TABLE: Final = "atlas_scenarios"
SITES_TABLE: Final = "atlas_scenario_sites"
#: Version of the stored payload layout.
SCHEMA_VERSION: Final = 1
#: Longest accepted scenario name.
MAX_NAME_LENGTH: Final = 120
#: Control characters and lone surrogates: a scenario name is one line of text (it is shown, printed and stored).
_UNPRINTABLE: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")

#: Columns of :attr:`Scenario.sites` (plus ``geometry``).
SITE_COLUMNS: Final = (
    "candidate_id",
    "source",
    "name",
    "gemeinde_ags",
    "kreis_ags",
    "fixed",
    "order",
    "marginal_gain",
)

_DDL: Final = (
    f"""CREATE TABLE IF NOT EXISTS {SCENARIOS_TABLE} (
        name TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        area_ags TEXT NOT NULL,
        model TEXT NOT NULL,
        n_sites INTEGER NOT NULL,
        schema_version INTEGER NOT NULL,
        payload TEXT NOT NULL)""",
    f"""CREATE TABLE IF NOT EXISTS {SITES_TABLE} (
        scenario TEXT NOT NULL,
        seq INTEGER NOT NULL,
        candidate_id TEXT NOT NULL,
        source TEXT,
        name TEXT,
        gemeinde_ags TEXT,
        kreis_ags TEXT,
        fixed INTEGER NOT NULL,
        sel_order INTEGER,
        marginal_gain REAL,
        geom_wkb BLOB NOT NULL,
        PRIMARY KEY (scenario, seq))""",
)


@dataclass(frozen=True, eq=False)
class Scenario:
    """A named, saved siting plan.

    Parameters
    ----------
    name
        Unique name chosen by the user.
    area_ags, area_name
        The planning area (Kreis 5-digit or Gemeinde 8-digit AGS) and its name.
    model
        ``mclp``, ``lscp`` or ``pmedian``.
    parameters
        Model parameters (JSON-serialisable), e.g. ``p``, ``radius_km``.
    sites
        Fixed and selected sites: columns :data:`SITE_COLUMNS`, points in
        EPSG:25832. ``order`` is the selection order of new sites (``NA``
        for fixed ones), ``marginal_gain`` the newly covered demand.
    results
        Objective, gap, status, coverage before/after and similar scalars.
    by_gemeinde
        Per-Gemeinde coverage table (before/after).
    layers
        Layer id → as-of date of the data used.
    demand_level, target_group
        Demand model level (German label) and target group.
    created_at
        ISO 8601 time (UTC); set on saving when empty.
    version
        Stored version the scenario was loaded with (0: not loaded from the
        store). Overwriting checks it against the stored one.

    Notes
    -----
    Site coordinates are EPSG:25832 (metres).
    """

    name: str
    area_ags: str
    area_name: str
    model: str
    parameters: Mapping[str, Any]
    sites: gpd.GeoDataFrame
    results: Mapping[str, Any]
    by_gemeinde: pd.DataFrame
    layers: Mapping[str, str | None] = field(default_factory=dict)
    demand_level: str = ""
    target_group: str = "total"
    created_at: str = ""
    version: int = 0

    @property
    def selected(self) -> gpd.GeoDataFrame:
        """The new (not fixed) sites, in selection order."""
        new = self.sites[~self.sites["fixed"].astype(bool)]
        return new.sort_values("order", kind="stable")

    @property
    def fixed_sites(self) -> gpd.GeoDataFrame:
        """The existing sites that were kept open."""
        return self.sites[self.sites["fixed"].astype(bool)]

    @property
    def rough(self) -> str:
        """Why the scenario's shares are only a rough approximation (its demand too coarse), or ``""``.

        The resolution check's verdict as the plan saved it; scenarios saved without one are not marked.
        """
        verdict = self.results.get("resolution") or {}
        if verdict.get("ok", True):
            return ""
        return str(verdict.get("message") or "Nachfrage zu grob für die Schwelle des Szenarios.")


def _json_default(value: Any) -> Any:
    """JSON encoder fallback for numpy and pandas scalars."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.isoformat()
    raise TypeError(f"nicht als JSON speicherbar: {type(value).__name__}")


def _clean_floats(value: Any) -> Any:
    """Replace NaN/inf by ``None`` (JSON has no NaN)."""
    if isinstance(value, Mapping):
        return {str(k): _clean_floats(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean_floats(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _validate(scenario: Scenario) -> None:
    """Collect every problem of a scenario before saving it."""
    problems: list[Problem] = []
    name = scenario.name.strip() if isinstance(scenario.name, str) else ""
    if not name:
        problems.append(Problem("Der Szenarioname ist leer.", "Einen Namen angeben.", column="name"))
    elif len(name) > MAX_NAME_LENGTH:
        problems.append(
            Problem(
                f"Der Szenarioname ist länger als {MAX_NAME_LENGTH} Zeichen.",
                "Einen kürzeren Namen wählen.",
                column="name",
            )
        )
    elif _UNPRINTABLE.search(name):
        shown = _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", name)
        problems.append(
            Problem(
                f"Der Szenarioname »{shown}« enthält ein Steuerzeichen (Zeilenumbruch, Tabulator …) oder ein "
                "ungültiges Zeichen.",
                "Einen Namen aus Buchstaben, Ziffern, Leer- und Satzzeichen wählen.",
                column="name",
            )
        )
    missing = [c for c in SITE_COLUMNS if c not in scenario.sites.columns]
    problems += [
        Problem("Spalte der Standorte fehlt.", "Szenario mit plan_sites() erzeugen.", column=c) for c in missing
    ]
    if isinstance(scenario.sites, gpd.GeoDataFrame) and len(scenario.sites):
        geoms = scenario.sites.geometry
        bad = (geoms.isna() | geoms.is_empty | (geoms.geom_type != "Point")).to_numpy()
        problems += [
            Problem("Standort ohne Punktgeometrie.", "Nur Punkte speichern.", row=int(i) + 1)
            for i in np.flatnonzero(bad)
        ]
        if "candidate_id" not in missing:
            ids = scenario.sites["candidate_id"]
            problems += [
                Problem("Kandidaten-ID fehlt.", "IDs ergänzen.", row=int(i) + 1, column="candidate_id")
                for i in np.flatnonzero(ids.isna().to_numpy())
            ]
    raise_if_problems(problems, f"Szenario »{scenario.name}« kann nicht gespeichert werden")
    ensure_projected(scenario.sites, f"Szenario »{scenario.name}«, Standorte")


def _payload(scenario: Scenario) -> str:
    """The JSON payload of everything that is not a site row."""
    table = scenario.by_gemeinde
    payload = {
        "area_name": scenario.area_name,
        "parameters": dict(scenario.parameters),
        "results": dict(scenario.results),
        "layers": dict(scenario.layers),
        "demand_level": scenario.demand_level,
        "target_group": scenario.target_group,
        "by_gemeinde": table.to_json(orient="table", index=False) if len(table.columns) else None,
    }
    return json.dumps(_clean_floats(payload), default=_json_default, ensure_ascii=False)


def _site_rows(name: str, sites: gpd.GeoDataFrame) -> list[tuple[Any, ...]]:
    """Rows for :data:`SITES_TABLE` (vectorised conversion, then zipped)."""

    def text(col: str) -> list[str | None]:
        return [None if pd.isna(v) else str(v) for v in sites[col].to_numpy(dtype=object)]

    order = pd.to_numeric(sites["order"], errors="coerce").to_numpy(dtype=float)
    gain = pd.to_numeric(sites["marginal_gain"], errors="coerce").to_numpy(dtype=float)
    wkb = shapely.to_wkb(sites.geometry.to_numpy())
    return list(
        zip(
            [name] * len(sites),
            range(len(sites)),
            text("candidate_id"),
            text("source"),
            text("name"),
            text("gemeinde_ags"),
            text("kreis_ags"),
            sites["fixed"].astype(bool).astype(int).tolist(),
            [None if np.isnan(v) else int(v) for v in order],
            [None if np.isnan(v) else float(v) for v in gain],
            list(wkb),
            strict=True,
        )
    )


def _create_tables(con: sqlite3.Connection) -> None:
    for ddl in _DDL:
        con.execute(ddl)
    _migrate(con)


def _migrate(con: sqlite3.Connection) -> None:
    """Forward migration of an older store: add the ``version`` column (optimistic concurrency)."""
    columns = {r[1] for r in con.execute(f"PRAGMA table_info({SCENARIOS_TABLE})")}
    if "version" not in columns:
        con.execute(f"ALTER TABLE {SCENARIOS_TABLE} ADD COLUMN version INTEGER NOT NULL DEFAULT 1")


def _insert_sites(con: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    """Insert the site rows (a separate step so tests can interrupt a save here)."""
    con.executemany(f"INSERT INTO {SITES_TABLE} VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)


def save_scenario(settings: Settings, scenario: Scenario, *, overwrite: bool = False) -> int:
    """Save ``scenario`` in the data store, in one transaction.

    Parameters
    ----------
    settings
        Gives the store path (``settings.store_path``).
    scenario
        The plan to save; ``created_at`` is set to now when empty.
    overwrite
        Replace a saved scenario of the same name. Without it, saving an
        existing name is refused.

    Returns
    -------
    int
        The stored version (1 for a new name, +1 per overwrite).

    Raises
    ------
    DataError
        If the name exists and ``overwrite`` is false, if the scenario was
        loaded (``version`` > 0) and someone saved it in between, or the
        scenario is invalid (all problems listed).

    Notes
    -----
    Sites are stored as WKB in EPSG:25832. A process killed during the save
    leaves the previous state of the store untouched.
    """
    _validate(scenario)
    name = scenario.name.strip()
    # microseconds: two plans saved within one second still list newest first (ISO strings sort by time)
    created = scenario.created_at or datetime.now(UTC).isoformat(timespec="microseconds")
    scenario = replace(scenario, name=name, created_at=created)
    rows = _site_rows(name, scenario.sites)
    payload = _payload(scenario)
    if settings.database_url:
        from geo.store import scenarios_pg

        header = {
            "name": name,
            "created_at": created,
            "area_ags": scenario.area_ags,
            "model": scenario.model,
            "n_sites": len(rows),
            "schema_version": SCHEMA_VERSION,
            "payload": payload,
        }
        return scenarios_pg.save(
            settings.database_url, header, rows, loaded_version=scenario.version, overwrite=overwrite
        )
    with DataStore(settings.store_path).transaction() as con:
        _create_tables(con)
        stored = con.execute(f"SELECT version FROM {SCENARIOS_TABLE} WHERE name = ?", (name,)).fetchone()
        if stored and not overwrite:
            raise exists_error(name)
        if stored and scenario.version and stored[0] != scenario.version:
            raise concurrent_change(name, scenario.version, int(stored[0]))
        version = int(stored[0]) + 1 if stored else 1
        con.execute(f"DELETE FROM {SITES_TABLE} WHERE scenario = ?", (name,))
        con.execute(f"DELETE FROM {SCENARIOS_TABLE} WHERE name = ?", (name,))
        con.execute(
            f"INSERT INTO {SCENARIOS_TABLE} (name, created_at, area_ags, model, n_sites, schema_version, "
            "payload, version) VALUES (?,?,?,?,?,?,?,?)",
            (name, created, scenario.area_ags, scenario.model, len(rows), SCHEMA_VERSION, payload, version),
        )
        _insert_sites(con, rows)
    logger.info("Szenario %s gespeichert (%d Standorte, Version %d)", name, len(rows), version)
    return version


@contextmanager
def _reading(settings: Settings) -> Iterator[sqlite3.Connection | None]:
    """A read transaction (consistent snapshot), or ``None`` without scenarios."""
    path = settings.store_path
    if not path.exists():
        yield None
        return
    # read-write connection: a hot journal left by a killed writer must be rolled back
    con = sqlite3.connect(path, timeout=30.0, isolation_level=None)
    try:
        has = con.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (SCENARIOS_TABLE,)).fetchone()
        if not has:
            yield None
            return
        _migrate(con)
        con.execute("BEGIN")
        try:
            yield con
        finally:
            con.execute("COMMIT")
    finally:
        con.close()


def _not_found(name: str, settings: Settings) -> IntegrationsatlasError:
    known = list_scenarios(settings)["name"].tolist()
    hint = f" Gespeichert sind: {', '.join(known)}." if known else " Es ist noch kein Szenario gespeichert."
    return DataError(f"Szenario »{name}« nicht gefunden.{hint}")


def load_scenario(settings: Settings, name: str) -> Scenario:
    """Load the saved scenario ``name``.

    Raises
    ------
    DataError
        If there is no such scenario, or its stored sites are incomplete.

    Notes
    -----
    The sites come back in EPSG:25832.
    """
    if settings.database_url:
        from geo.store import scenarios_pg

        pg_row, pg_sites = scenarios_pg.load_rows(settings.database_url, name.strip())
        if pg_row is None:
            raise _not_found(name, settings)
        return scenario_from_rows(pg_row, pg_sites)
    with _reading(settings) as con:
        row = (
            None
            if con is None
            else con.execute(
                f"SELECT name, created_at, area_ags, model, n_sites, payload, version FROM {SCENARIOS_TABLE} "
                "WHERE name = ?",
                (name.strip(),),
            ).fetchone()
        )
        if row is None:
            site_rows: list[tuple[Any, ...]] = []
        else:
            site_rows = con.execute(  # type: ignore[union-attr]
                f"SELECT candidate_id, source, name, gemeinde_ags, kreis_ags, fixed, sel_order, "
                f"marginal_gain, geom_wkb FROM {SITES_TABLE} WHERE scenario = ? ORDER BY seq",
                (row[0],),
            ).fetchall()
    if row is None:
        raise _not_found(name, settings)
    return scenario_from_rows(row, site_rows)


def scenario_from_rows(row: tuple[Any, ...], site_rows: list[tuple[Any, ...]]) -> Scenario:
    """Build a :class:`Scenario` from its stored header row and site rows (either backend).

    Raises
    ------
    DataError
        If the number of site rows differs from the header's ``n_sites``.

    Notes
    -----
    Site geometries are WKB in EPSG:25832 (metres).
    """
    saved_name, created, area_ags, model, n_sites, payload_text, version = row
    if len(site_rows) != n_sites:
        raise DataError(
            f"Szenario »{saved_name}« ist unvollständig ({len(site_rows)} von {n_sites} Standorten). "
            "Bitte das Szenario löschen und neu berechnen."
        )
    payload = json.loads(payload_text)
    cols = list(zip(*site_rows, strict=True)) if site_rows else [()] * 9
    sites = gpd.GeoDataFrame(
        {
            "candidate_id": pd.array(cols[0], dtype="string"),
            "source": pd.array(cols[1], dtype="string"),
            "name": pd.array(cols[2], dtype="string"),
            "gemeinde_ags": pd.array(cols[3], dtype="string"),
            "kreis_ags": pd.array(cols[4], dtype="string"),
            "fixed": np.asarray([bool(v) for v in cols[5]], dtype=bool),
            "order": pd.array(cols[6], dtype="Int64"),
            "marginal_gain": np.asarray([np.nan if v is None else v for v in cols[7]], dtype=float),
        },
        geometry=gpd.GeoSeries(
            shapely.from_wkb(np.asarray([bytes(v) for v in cols[8]], dtype=object)), crs=PROJECTED_CRS
        ),
        crs=PROJECTED_CRS,
    )
    table_json = payload.get("by_gemeinde")
    by_gemeinde = pd.read_json(io.StringIO(table_json), orient="table") if table_json else pd.DataFrame()
    return Scenario(
        name=saved_name,
        area_ags=area_ags,
        area_name=payload.get("area_name", ""),
        model=model,
        parameters=payload.get("parameters", {}),
        sites=sites,
        results=payload.get("results", {}),
        by_gemeinde=by_gemeinde,
        layers=payload.get("layers", {}),
        demand_level=payload.get("demand_level", ""),
        target_group=payload.get("target_group", "total"),
        created_at=created,
        version=int(version),
    )


#: Columns of :func:`list_scenarios`.
LIST_COLUMNS: Final = (
    "name",
    "created_at",
    "area_ags",
    "area_name",
    "model",
    "n_sites",
    "n_fixed",
    "n_new",
    "objective",
    "status",
    "share_before",
    "share_after",
    "threshold",
)


def list_scenarios(settings: Settings) -> pd.DataFrame:
    """All saved scenarios, newest first, one row each (columns :data:`LIST_COLUMNS`)."""
    if settings.database_url:
        from geo.store import scenarios_pg

        return list_frame(scenarios_pg.list_rows(settings.database_url))
    with _reading(settings) as con:
        rows = (
            []
            if con is None
            else con.execute(
                f"SELECT s.name, s.created_at, s.area_ags, s.model, s.n_sites, s.payload, "
                f"(SELECT count(*) FROM {SITES_TABLE} t WHERE t.scenario = s.name AND t.fixed = 1) "
                f"FROM {SCENARIOS_TABLE} s ORDER BY s.created_at DESC, s.name"
            ).fetchall()
        )
    return list_frame(rows)


def list_frame(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    """The :func:`list_scenarios` table from ``(name, created_at, area_ags, model, n_sites, payload, n_fixed)`` rows."""
    records = []
    for name, created, area_ags, model, n_sites, payload_text, n_fixed in rows:
        payload = json.loads(payload_text)
        results = payload.get("results", {})
        records.append(
            {
                "name": name,
                "created_at": created,
                "area_ags": area_ags,
                "area_name": payload.get("area_name", ""),
                "model": model,
                "n_sites": n_sites,
                "n_fixed": n_fixed,
                "n_new": n_sites - n_fixed,
                "objective": results.get("objective"),
                "status": results.get("status"),
                "share_before": results.get("share_before"),
                "share_after": results.get("share_after"),
                "threshold": results.get("threshold"),  # the question's measure, e.g. »10 km Luftlinie«
            }
        )
    return pd.DataFrame(records, columns=list(LIST_COLUMNS))


def delete_scenario(settings: Settings, name: str) -> None:
    """Delete the saved scenario ``name`` (one transaction).

    Raises
    ------
    DataError
        If there is no such scenario.
    """
    if settings.database_url:
        from geo.store import scenarios_pg

        if not scenarios_pg.delete(settings.database_url, name.strip()):
            raise _not_found(name, settings)
        logger.info("Szenario %s gelöscht", name)
        return
    if not settings.store_path.exists():
        raise _not_found(name, settings)
    with DataStore(settings.store_path).transaction() as con:
        _create_tables(con)
        con.execute(f"DELETE FROM {SITES_TABLE} WHERE scenario = ?", (name.strip(),))
        deleted = con.execute(f"DELETE FROM {SCENARIOS_TABLE} WHERE name = ?", (name.strip(),)).rowcount
    if not deleted:
        raise _not_found(name, settings)
    logger.info("Szenario %s gelöscht", name)
