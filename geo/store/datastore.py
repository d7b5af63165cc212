"""The local data store: one GeoPackage holding everything imported or fetched.

Every write ("batch") goes to a *new* feature table ``<layer_id>__<batch_id>``.
Only after that table has been written completely does a single SQLite
transaction register it in the metadata table ``atlas_batches``; ``replace``
marks the layer's earlier batches inactive in that same transaction. So

* a failed or killed import changes nothing visible (its half-written table is
  not registered and is removed the next time the store is opened);
* a later import never destroys earlier data: ``replace`` only flips the
  ``active`` flag, and :meth:`DataStore.restore` flips it back;
* "deleting" a batch (:meth:`DataStore.deactivate`) is restorable as well.

The file stays a valid GeoPackage: QGIS opens it, shows every batch as a layer
and ``atlas_batches`` as an attribute table (the import history).

Examples
--------
>>> import tempfile, geopandas as gpd
>>> from pathlib import Path
>>> from shapely.geometry import Point
>>> store = DataStore(Path(tempfile.mkdtemp()) / "store.gpkg")
>>> gdf = gpd.GeoDataFrame({"id": ["k1"], "name": ["Kita Sonnenschein"]},
...                        geometry=[Point(343_000, 5_655_000)], crs="EPSG:25832")
>>> info = store.write_layer("kita", gdf, mode="append", source_file="kitas.csv",
...                          source="import", licence="CC BY 4.0")
>>> store.read_layer("kita")[["id", "name", "batch_id"]].shape
(1, 3)
>>> store.deactivate(info.batch_id), store.read_layer("kita") is None
(True, True)
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import pandas as pd
import pyogrio

from geo.errors import DataError, IntegrationsatlasError, SchemaError
from geo.projection import ensure_projected
from geo.settings import PROJECTED_CRS
from geo.store.conflicts import duplicate_batch

logger = logging.getLogger(__name__)

#: Name of the metadata table (a GeoPackage attribute table).
BATCHES_TABLE = "atlas_batches"
#: Bookkeeping of tables being written right now (not a GeoPackage layer).
PENDING_TABLE = "atlas_pending"
#: A half-written batch table older than this is considered abandoned.
PENDING_TTL = timedelta(hours=1)

Mode = Literal["append", "replace"]
MODES: tuple[Mode, ...] = ("append", "replace")

_LAYER_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_BATCH_TABLE = re.compile(r"^[a-z][a-z0-9_]*__\d{8}T\d{6}_[0-9a-f]{6}$")
_RESERVED_COLUMNS = {"fid", "geom"}

_BATCH_COLUMNS: dict[str, str] = {
    "batch_id": "str",
    "layer_id": "str",
    "table_name": "str",
    "source_file": "str",
    "source": "str",
    "licence": "str",
    "url": "str",
    "imported_at": "str",
    "mode": "str",
    "rows_in": "int64",
    "rows_kept": "int64",
    "rows_rejected": "int64",
    "active": "int64",
    "dtypes": "str",
    "publisher": "str",
    "as_of": "str",
}
#: Columns added to the metadata table after the first release (added to older stores on opening).
_LATER_BATCH_COLUMNS: tuple[str, ...] = ("publisher", "as_of")


@dataclass(frozen=True)
class BatchInfo:
    """Metadata of one write to the data store.

    Parameters
    ----------
    batch_id
        Unique id, e.g. ``20250312T101500_3fa2c1`` (UTC time + random suffix).
    layer_id
        The registered layer the batch belongs to.
    source_file
        Name of the imported file or the downloaded resource.
    source
        Kind or name of the source (``import``, ``MSB NRW Schulgrunddaten`` ...).
    licence
        Licence of the data, as declared by the source or the user.
    url
        Where the data was fetched from, for online sources.
    imported_at
        Time of the write, ISO 8601 in UTC.
    mode
        ``append`` or ``replace``.
    rows_in, rows_kept, rows_rejected
        Rows read from the input, rows stored, rows rejected by validation.
    active
        Whether the batch is part of the layer now (``False`` after
        "Löschen" or after being replaced; restorable).
    publisher
        Who published the data (e.g. »Ministerium für Schule und Bildung
        NRW«), as recorded on import; empty when unknown.
    as_of
        Reference date of the data itself (Stichtag, ISO ``YYYY-MM-DD`` or
        ``YYYY``), not the import day; ``None`` when unknown.
    """

    batch_id: str
    layer_id: str
    source_file: str
    source: str
    licence: str
    url: str | None
    imported_at: str
    mode: Mode
    rows_in: int
    rows_kept: int
    rows_rejected: int
    active: bool
    publisher: str = ""
    as_of: str | None = None

    def as_dict(self) -> dict[str, object]:
        """Return the batch metadata as a JSON-serialisable dict."""
        return asdict(self)


class DataStore:
    """A GeoPackage file with imported and fetched layers, written in batches.

    Parameters
    ----------
    path
        The GeoPackage file (``Settings.store_path``). Neither the file nor its
        folder is created until the first write.

    Notes
    -----
    All feature tables are stored in EPSG:25832 (metres); writes in any other
    CRS are refused with :class:`~geo.errors.CRSError`.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if self.path.exists():
            self._cleanup_orphans()

    def __repr__(self) -> str:
        return f"DataStore({str(self.path)!r})"

    @property
    def location(self) -> str:
        """Where the data lives, for messages."""
        return str(self.path)

    def exists(self) -> bool:
        """Whether the store file exists (nothing is stored before the first write)."""
        return self.path.exists()

    def state_token(self) -> str:
        """A short string that changes with every import, delete/restore and scenario save.

        Built from the file's modification time and size, its write-ahead log
        and the active batches, so that the app's result caches never outlive
        the data they were computed from.
        """
        if not self.path.exists():
            return "empty"
        stat = self.path.stat()
        wal = self.path.with_name(self.path.name + "-wal")
        wal_part = f"{wal.stat().st_mtime_ns}" if wal.exists() else ""
        active = ",".join(sorted(f"{b.batch_id}:{int(b.active)}" for b in self.batches()))
        digest = hashlib.sha1(active.encode("utf-8")).hexdigest()[:12]
        return f"{stat.st_mtime_ns}:{stat.st_size}:{wal_part}:{digest}"

    def result_cache(self) -> None:
        """No shared result cache: a GeoPackage serves one machine, whose files are the cache."""
        return None

    # --- writing ------------------------------------------------------------

    def write_layer(
        self,
        layer_id: str,
        gdf: gpd.GeoDataFrame,
        *,
        mode: Mode,
        source_file: str,
        source: str,
        licence: str,
        url: str | None = None,
        rows_in: int | None = None,
        rows_rejected: int = 0,
        unique_column: str | None = None,
        publisher: str = "",
        as_of: str | None = None,
    ) -> BatchInfo:
        """Store ``gdf`` as a new batch of layer ``layer_id``.

        Parameters
        ----------
        layer_id
            Registered layer id (lower case letters, digits, ``_``).
        gdf
            The rows to store, in EPSG:25832.
        mode
            ``append`` adds the batch to the layer's active data; ``replace``
            deactivates the layer's earlier batches (restorable).
        source_file, source, licence, url, publisher, as_of
            Provenance recorded with the batch (``as_of``: the data's own
            reference date, see :class:`BatchInfo`).
        rows_in
            Rows read from the input; defaults to ``len(gdf) + rows_rejected``.
        rows_rejected
            Rows dropped by validation.
        unique_column
            With ``append``: refuse the batch (:class:`DuplicateIdError`) if a
            value of this column is already in the layer's active data, checked
            inside the registering transaction (concurrent imports of the same
            ids: exactly one wins).

        Returns
        -------
        BatchInfo
            The metadata of the new, active batch.

        Raises
        ------
        CRSError
            If ``gdf`` is not in EPSG:25832.
        SchemaError
            If ``gdf`` uses a column name the GeoPackage reserves.
        DataError
            If the data cannot be written; the store is unchanged then.

        Notes
        -----
        The feature table is written first, the metadata in one SQLite
        transaction afterwards: a failure at any point leaves the visible
        content of the store unchanged.
        """
        frame, dtypes = check_layer_frame(layer_id, gdf, mode)
        now = datetime.now(UTC)
        batch_id = new_batch_id(now)
        table = f"{layer_id}__{batch_id}"
        self._initialise()
        try:
            with self.transaction() as con:
                # claim the table name: the primary key of PENDING_TABLE refuses a second writer, and the
                # SQLite write lock (BEGIN IMMEDIATE) makes the look-up of finished batches atomic with it
                con.execute(
                    f"INSERT INTO {PENDING_TABLE} (table_name, started_at) VALUES (?, ?)", (table, now.isoformat())
                )
                taken = con.execute(
                    f"SELECT 1 FROM {BATCHES_TABLE} WHERE batch_id = ? UNION ALL "
                    "SELECT 1 FROM gpkg_contents WHERE lower(table_name) = lower(?)",
                    (batch_id, table),
                ).fetchone()
                if taken:
                    raise sqlite3.IntegrityError(f"batch {batch_id} exists")
        except sqlite3.IntegrityError as exc:
            raise duplicate_batch(layer_id, batch_id) from exc
        try:
            pyogrio.write_dataframe(
                frame,
                self.path,
                layer=table,
                driver="GPKG",
                layer_options={"SPATIAL_INDEX": "NO", "IDENTIFIER": f"{layer_id} ({batch_id})"},
            )
        except Exception as exc:  # pyogrio/GDAL raise several types; none may leak
            self._drop_table(table)
            raise DataError(
                f"Ebene »{layer_id}« konnte nicht im Datenspeicher {self.path} gespeichert werden "
                f"({type(exc).__name__}: {exc}). Der Datenspeicher ist unverändert."
            ) from exc

        info = BatchInfo(
            batch_id=batch_id,
            layer_id=layer_id,
            source_file=str(source_file),
            source=str(source),
            licence=str(licence),
            url=url,
            imported_at=now.isoformat(timespec="seconds"),
            mode=mode,
            rows_in=int(rows_in if rows_in is not None else len(frame) + rows_rejected),
            rows_kept=len(frame),
            rows_rejected=int(rows_rejected),
            active=True,
            publisher=str(publisher or ""),
            as_of=as_of or None,
        )
        try:
            with self.transaction() as con:
                clash = _active_duplicates(con, layer_id, table, unique_column) if unique_column else []
                if clash and mode == "append":
                    raise DuplicateIdError(layer_id, unique_column or "", clash)
                if mode == "replace":
                    con.execute(f"UPDATE {BATCHES_TABLE} SET active = 0 WHERE layer_id = ? AND active = 1", (layer_id,))
                con.execute(
                    f"INSERT INTO {BATCHES_TABLE} (batch_id, layer_id, table_name, source_file, source, "
                    "licence, url, imported_at, mode, rows_in, rows_kept, rows_rejected, active, dtypes, "
                    "publisher, as_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)",
                    (
                        info.batch_id,
                        layer_id,
                        table,
                        info.source_file,
                        info.source,
                        info.licence,
                        url,
                        info.imported_at,
                        mode,
                        info.rows_in,
                        info.rows_kept,
                        info.rows_rejected,
                        json.dumps(dtypes),
                        info.publisher,
                        info.as_of,
                    ),
                )
                con.execute(f"DELETE FROM {PENDING_TABLE} WHERE table_name = ?", (table,))
        except DuplicateIdError:
            self._drop_table(table)
            raise
        except sqlite3.Error as exc:
            self._drop_table(table)
            raise DataError(
                f"Datenspeicher {self.path}: Metadaten konnten nicht geschrieben werden ({exc}). "
                "Der Datenspeicher ist unverändert."
            ) from exc
        logger.info("stored %d rows of %s as batch %s (%s)", len(frame), layer_id, batch_id, mode)
        return info

    def deactivate(self, batch_id: str) -> bool:
        """ "Delete" batch ``batch_id``: it stays in the file and can be restored.

        Returns ``False`` if the batch was already deleted (nothing changed).

        Raises
        ------
        IntegrationsatlasError
            If there is no such batch.
        """
        return self._set_active(batch_id, False)

    def restore(self, batch_id: str) -> bool:
        """Make batch ``batch_id`` active again (undo delete or replace).

        Returns ``False`` if the batch was already active (nothing changed).

        Raises
        ------
        IntegrationsatlasError
            If there is no such batch.
        """
        return self._set_active(batch_id, True)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One SQLite transaction on the store file, for other modules' tables.

        ``BEGIN IMMEDIATE`` on entry, ``COMMIT`` on normal exit and ``ROLLBACK``
        on an exception. The file is created (as a GeoPackage) if needed.

        Yields
        ------
        sqlite3.Connection
            The connection; do not commit or close it yourself.
        """
        self._initialise()
        con = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.close()

    # --- reading ------------------------------------------------------------

    def read_layer(self, layer_id: str) -> gpd.GeoDataFrame | None:
        """All active batches of ``layer_id`` in one GeoDataFrame.

        Returns
        -------
        geopandas.GeoDataFrame or None
            Rows of the active batches (oldest first), in EPSG:25832, with the
            column ``batch_id`` added and the stored dtypes (nullable
            ``boolean``/``Int64`` ...) restored; ``None`` if nothing is active.

        Raises
        ------
        DataError
            If an active batch's table is missing from the file.

        Notes
        -----
        CRS is EPSG:25832 (metres).
        """
        rows = self._query(
            f"SELECT batch_id, table_name, dtypes FROM {BATCHES_TABLE} WHERE layer_id = ? AND active = 1 ORDER BY fid",
            (layer_id,),
        )
        if not rows:
            return None
        parts = []
        for batch_id, table, dtypes in rows:
            try:
                part = pyogrio.read_dataframe(self.path, layer=table)
            except Exception as exc:
                raise DataError(
                    f"Datenspeicher {self.path}: Tabelle des Stapels {batch_id} (Ebene »{layer_id}«) fehlt "
                    f"oder ist defekt ({exc}). Stapel mit »integrationsatlas store delete {batch_id}« "
                    "deaktivieren oder erneut importieren."
                ) from exc
            part = restore_dtypes(part, json.loads(dtypes or "{}"))
            part["batch_id"] = batch_id
            parts.append(part)
        gdf = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        gdf = gpd.GeoDataFrame(gdf, geometry="geometry")
        if gdf.crs is None:
            gdf = gdf.set_crs(PROJECTED_CRS)
        return ensure_projected(gdf, f"Datenspeicher/{layer_id}")

    def batches(self, layer_id: str | None = None) -> list[BatchInfo]:
        """Metadata of all batches (also inactive ones), newest first."""
        sql = (
            f"SELECT batch_id, layer_id, source_file, source, licence, url, imported_at, mode, "
            f"rows_in, rows_kept, rows_rejected, active, {_later_columns_sql(self.path)} FROM {BATCHES_TABLE}"
        )
        params: tuple[object, ...] = ()
        if layer_id is not None:
            sql += " WHERE layer_id = ?"
            params = (layer_id,)
        rows = self._query(sql + " ORDER BY fid DESC", params)
        return [
            BatchInfo(
                batch_id=r[0],
                layer_id=r[1],
                source_file=r[2],
                source=r[3],
                licence=r[4],
                url=r[5],
                imported_at=r[6],
                mode=r[7],
                rows_in=int(r[8]),
                rows_kept=int(r[9]),
                rows_rejected=int(r[10]),
                active=bool(r[11]),
                publisher=str(r[12] or ""),
                as_of=r[13] or None,
            )
            for r in rows
        ]

    def layer_meta(self, layer_id: str) -> BatchInfo | None:
        """The newest active batch of ``layer_id``, or ``None``."""
        return next((b for b in self.batches(layer_id) if b.active), None)

    def layer_ids(self) -> list[str]:
        """Ids of the layers that have active data, sorted."""
        rows = self._query(f"SELECT DISTINCT layer_id FROM {BATCHES_TABLE} WHERE active = 1 ORDER BY layer_id")
        return [r[0] for r in rows]

    # --- internals ------------------------------------------------------------

    def _query(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        """Run a read query; an absent store or metadata table gives ``[]``."""
        if not self.path.exists():
            return []
        con = sqlite3.connect(self.path, timeout=30.0)
        try:
            if not _has_table(con, BATCHES_TABLE):
                return []
            return con.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise DataError(
                f"Datenspeicher {self.path} ist keine lesbare GeoPackage-Datei ({exc}). "
                "Datei umbenennen oder löschen; die Daten müssen dann neu importiert werden."
            ) from exc
        finally:
            con.close()

    def _set_active(self, batch_id: str, active: bool) -> bool:
        """Set the ``active`` flag of a batch; return whether it changed."""
        if not self.path.exists():
            raise IntegrationsatlasError(f"Stapel »{batch_id}« nicht gefunden: der Datenspeicher ist leer.")
        with self.transaction() as con:
            row = con.execute(f"SELECT active FROM {BATCHES_TABLE} WHERE batch_id = ?", (batch_id,)).fetchone()
            if row is None:
                raise IntegrationsatlasError(
                    f"Stapel »{batch_id}« nicht gefunden. Vorhandene Stapel zeigt »integrationsatlas store list«."
                )
            if bool(row[0]) == active:
                return False
            con.execute(f"UPDATE {BATCHES_TABLE} SET active = ? WHERE batch_id = ?", (int(active), batch_id))
        logger.info("batch %s %s", batch_id, "restored" if active else "deactivated")
        return True

    def _initialise(self) -> None:
        """Create the GeoPackage with the metadata tables, if not there yet."""
        if self.path.exists():
            con = sqlite3.connect(self.path, timeout=30.0)
            try:
                ready = _has_table(con, BATCHES_TABLE) and _has_table(con, PENDING_TABLE)
            finally:
                con.close()
            if ready:
                _add_later_columns(self.path)
                return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists() or not _has_table_at(self.path, BATCHES_TABLE):
            empty = pd.DataFrame({c: pd.Series(dtype=t) for c, t in _BATCH_COLUMNS.items()})
            pyogrio.write_dataframe(
                empty,
                self.path,
                layer=BATCHES_TABLE,
                driver="GPKG",
                layer_options={"DESCRIPTION": "Integrationsatlas NRW: Importe und Abrufe (Stapel)"},
            )
        con = sqlite3.connect(self.path, timeout=30.0)
        try:
            con.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS {BATCHES_TABLE}_batch_id ON {BATCHES_TABLE} (batch_id)")
            con.execute(
                f"CREATE TABLE IF NOT EXISTS {PENDING_TABLE} (table_name TEXT PRIMARY KEY, started_at TEXT NOT NULL)"
            )
            con.commit()
        finally:
            con.close()

    def _drop_table(self, table: str) -> None:
        """Remove a feature table and its GeoPackage registrations."""
        if not self.path.exists():
            return
        con = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            con.execute("BEGIN IMMEDIATE")
            con.execute(f'DROP TABLE IF EXISTS "{table}"')
            for meta in (
                "gpkg_geometry_columns",
                "gpkg_ogr_contents",
                "gpkg_extensions",
                "gpkg_data_columns",
                "gpkg_contents",
                PENDING_TABLE,
            ):
                if _has_table(con, meta):
                    con.execute(f"DELETE FROM {meta} WHERE lower(table_name) = lower(?)", (table,))
            con.execute("COMMIT")
        except sqlite3.Error as exc:
            logger.warning("could not remove orphan table %s from %s: %s", table, self.path, exc)
        finally:
            con.close()

    def _cleanup_orphans(self) -> None:
        """Remove batch tables that were never registered (failed or killed writes)."""
        try:
            con = sqlite3.connect(self.path, timeout=30.0)
            try:
                if not (_has_table(con, "gpkg_contents") and _has_table(con, BATCHES_TABLE)):
                    return
                tables = [r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")]
                known = {r[0] for r in con.execute(f"SELECT table_name FROM {BATCHES_TABLE}")}
                pending: dict[str, str] = {}
                if _has_table(con, PENDING_TABLE):
                    sql = f"SELECT table_name, started_at FROM {PENDING_TABLE}"
                    pending = dict(con.execute(sql).fetchall())
            finally:
                con.close()
        except sqlite3.DatabaseError as exc:
            logger.warning("data store %s not readable, skipping cleanup: %s", self.path, exc)
            return
        now = datetime.now(UTC)
        for table in tables:
            if table in known or not _BATCH_TABLE.match(table):
                continue
            started = pending.get(table)
            if started is not None and now - datetime.fromisoformat(started) < PENDING_TTL:
                continue  # another process is writing it right now
            logger.info("removing orphan batch table %s from %s", table, self.path)
            self._drop_table(table)
        stale = [
            t
            for t, started in pending.items()
            if t not in tables and now - datetime.fromisoformat(started) >= PENDING_TTL
        ]
        for table in stale:
            self._drop_table(table)


class DuplicateIdError(DataError):
    """Values of a batch's unique column are already in the layer's active data."""

    def __init__(self, layer_id: str, column: str, ids: list[str]) -> None:
        self.ids = tuple(ids)
        shown = ", ".join(f"»{i}«" for i in ids[:10]) + (" …" if len(ids) > 10 else "")
        super().__init__(
            f"Ebene »{layer_id}«: {len(ids)} Wert(e) der Spalte »{column}« sind bereits im "
            f"Datenspeicher: {shown}. Nichts wurde gespeichert."
        )


def _active_duplicates(con: sqlite3.Connection, layer_id: str, table: str, column: str) -> list[str]:
    """Values of ``column`` in ``table`` that an active batch of ``layer_id`` already has."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", column):
        raise IntegrationsatlasError(f"Ungültiger Spaltenname »{column}« für die ID-Prüfung.")
    rows = con.execute(f"SELECT table_name FROM {BATCHES_TABLE} WHERE layer_id = ? AND active = 1", (layer_id,))
    found: set[str] = set()
    for (other,) in rows.fetchall():
        if not _BATCH_TABLE.match(other) or column not in {r[1] for r in con.execute(f'PRAGMA table_info("{other}")')}:
            continue
        sql = (
            f'SELECT DISTINCT n."{column}" FROM "{table}" n JOIN "{other}" o ON n."{column}" = o."{column}" '
            f'WHERE n."{column}" IS NOT NULL'
        )
        found.update(str(r[0]) for r in con.execute(sql))
    return sorted(found)


def _batch_columns(path: Path) -> set[str]:
    con = sqlite3.connect(path, timeout=30.0)
    try:
        return {str(r[1]) for r in con.execute(f"PRAGMA table_info({BATCHES_TABLE})")}
    finally:
        con.close()


def _later_columns_sql(path: Path) -> str:
    """The select list of :data:`_LATER_BATCH_COLUMNS`; ``NULL`` for a store written before they existed."""
    try:
        present = _batch_columns(path) if path.exists() else set()
    except sqlite3.DatabaseError:  # not a GeoPackage: the query that follows says so in German
        present = set()
    return ", ".join(c if c in present else f"NULL AS {c}" for c in _LATER_BATCH_COLUMNS)


def _add_later_columns(path: Path) -> None:
    """Add the metadata columns of later releases to a store written by an earlier one (a forward migration)."""
    missing = [c for c in _LATER_BATCH_COLUMNS if c not in _batch_columns(path)]
    if not missing:
        return
    con = sqlite3.connect(path, timeout=30.0)
    try:
        for column in missing:
            con.execute(f"ALTER TABLE {BATCHES_TABLE} ADD COLUMN {column} TEXT")
        con.commit()
    finally:
        con.close()


def _has_table(con: sqlite3.Connection, name: str) -> bool:
    row = con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
    return row is not None


def _has_table_at(path: Path, name: str) -> bool:
    con = sqlite3.connect(path, timeout=30.0)
    try:
        return _has_table(con, name)
    finally:
        con.close()


def new_batch_id(now: datetime) -> str:
    """A new batch id: UTC time and a random suffix, e.g. ``20250312T101500_3fa2c1``.

    Uniqueness is not assumed: the stores refuse a duplicate by constraint.
    """
    return f"{now:%Y%m%dT%H%M%S}_{secrets.token_hex(3)}"


def check_layer_frame(layer_id: str, gdf: gpd.GeoDataFrame, mode: str) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """Validate a write request; return the frame to store and its column dtypes.

    Raises
    ------
    IntegrationsatlasError
        For an unknown mode or an invalid layer id.
    CRSError
        If ``gdf`` is not in EPSG:25832.
    SchemaError
        If ``gdf`` uses a reserved column name.

    Notes
    -----
    The frame must be in EPSG:25832 (metres); its geometry column is renamed ``geometry``.
    """
    if mode not in MODES:
        raise IntegrationsatlasError(f"Unbekannter Modus »{mode}«: erlaubt sind »append« und »replace«.")
    if not _LAYER_ID.match(layer_id):
        raise IntegrationsatlasError(f"Ungültige Ebenen-ID »{layer_id}«: nur Kleinbuchstaben, Ziffern und »_«.")
    ensure_projected(gdf, f"Ebene »{layer_id}«")
    frame = gdf.drop(columns=["batch_id"], errors="ignore").reset_index(drop=True)
    if frame.geometry.name != "geometry":
        frame = frame.rename_geometry("geometry")
    reserved = sorted(c for c in frame.columns if str(c).lower() in _RESERVED_COLUMNS)
    if reserved:
        raise SchemaError(
            f"Ebene »{layer_id}«: Spaltenname(n) {', '.join(reserved)} sind im GeoPackage reserviert. "
            "Bitte die Spalte umbenennen."
        )
    dtypes = {str(c): str(t) for c, t in frame.dtypes.items() if c != "geometry"}
    return frame, dtypes


def restore_dtypes(frame: pd.DataFrame, dtypes: dict[str, str]) -> pd.DataFrame:
    """Cast columns back to the dtypes recorded at write time.

    GeoPackage has no nullable boolean/integer types that survive a round trip
    through GDAL (they come back as float); the recorded dtype fixes that.
    """
    for col, dtype in dtypes.items():
        if col not in frame.columns or str(frame[col].dtype) == dtype:
            continue
        try:
            if dtype in ("str", "string", "object"):
                frame[col] = frame[col].astype("string").astype(dtype)  # type: ignore[call-overload]
            else:
                frame[col] = frame[col].astype(dtype)  # type: ignore[call-overload]
        except (TypeError, ValueError) as exc:
            logger.debug("could not restore dtype %s of column %s: %s", dtype, col, exc)
    return frame
